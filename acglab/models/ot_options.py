"""Settings of the OT geometric module (:mod:`acglab.models.ot_module`), checked on creation.

**The same-class variant** (``OTOptions.same_class``). The thesis motivates the interpolation as
mixing features *inside a mode* of the data. The dihedral-angle test is a geometric stand-in
for that: it refuses pairs whose facet lies on the singular set, which separates modes only
where they are far apart in feature space. Real and fake faces need not be: a fake keeps the
identity, pose and lighting of its source video, so their bottleneck features can share cells
and neighbours, and nothing in the label-free test keeps them apart. With w = 0.75 a replaced
feature is mostly its partner's, so a real face whose partner is a fake one hands the
classifier a fake-like feature labelled real (and vice versa): label noise, growing with the
share of replaced samples. With ``same_class=True`` a sample is replaced only when its
partner's label equals its own (an unknown label, on either side, never matches), which makes
"inside a mode" hold at least for the class. With ``same_class=False`` (the default, the
thesis' module) nothing changes in what is replaced, and the ``cross_class`` diagnostic
measures how much label noise the module injects.

**The default d = 32.** A random projection to d dimensions changes squared pairwise distances
by about sqrt(2 / d) (one standard deviation, Johnson-Lindenstrauss), a quarter at d = 32, and
OT in 32 dimensions still has well-sampled cells.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from acglab.errors import ModelConfigError
from acglab.ot.singular import DEFAULT_ANGLE_THRESHOLD

#: where the OT module can work (see ``OTOptions.space``)
OT_SPACES = ("bottleneck", "metric")


@dataclass(frozen=True)
class OTOptions:
    """Settings of :class:`OTFeatureModule` (see the module notes).

    bank_size : entries N of the FIFO memory bank.
    refit_every : training steps between two OT fits.
    warmup : bank entries needed before the first fit (at most ``bank_size``).
    dim : dimension d of the OT coordinates (random projection); ``None`` = the features' own.
    code_radius : RMS norm of the OT codes.
    threshold : dihedral angle (rad) above which a face belongs to the singular set (AE-OT: 0.7).
    weight : interpolation weight w towards the neighbour (AE-OT's ``rec_gen_distance``: 0.75).
    neighbours : second-best cells kept per cell in the neighbour table.
    tol, error, max_steps, time_limit : passed to :meth:`SemiDiscreteOT.fit` (loose on purpose).
    samples : initial quasi-Monte-Carlo sample count of a fit (``None``: the solver's default,
        max(2^14, 32 N)); the solver grows it when its noise floor is reached.
    seed : seeds the projection, the Sobol streams and the partner draws.
    same_class : replace a sample only when its partner's bank label equals its own (labels
        given to ``forward``; an unknown label never matches): mixing stays inside a class.
        ``False`` (the thesis' module) ignores labels for the replacement and only records how
        many replaced samples took a partner of the other class.
    extra_points : each training step also draws this many generated features
        (:meth:`OTFeatureModule.training_points`: same-class pairs of the last fit, labelled
        with their class) and adds them to the classifier's batch: the thesis' "new features"
        used as extra training data. They are detached, so they train the head only. 0: off.
    space : where the module works. ``"bottleneck"`` (the thesis' module): on the pooled
        deepest encoder map, and the classifier sees the replaced features. ``"metric"``: on
        the first metric-loss level (the pooled stride-16 map, eqs. 2.3-2.4), and only the
        metric loss sees the replaced features; the classifier gets the encoder's own. With
        ``same_class`` the mixtures keep their label there, so the metric loss pulls real
        mixtures towards real faces and pushes them from fakes: the OT features shape the
        embedding instead of standing in for the classifier's input.
    """

    bank_size: int = 1024
    refit_every: int = 10
    warmup: int = 256
    dim: int | None = 32
    code_radius: float = 1.0
    threshold: float = DEFAULT_ANGLE_THRESHOLD
    weight: float = 0.75
    neighbours: int = 8
    tol: float = 0.2
    error: str = "mean"
    max_steps: int = 100
    time_limit: float | None = None
    samples: int | None = None
    seed: int = 0
    same_class: bool = False
    extra_points: int = 0
    space: str = "bottleneck"

    @classmethod
    def from_dict(cls, options: dict | None) -> OTOptions:
        """Options from a plain dict (unknown keys and bad values -> ModelConfigError)."""
        options = dict(options or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ModelConfigError(f"unknown OT option(s) {unknown}; known: {sorted(known)}")
        opts = cls(**options)
        opts.check()
        return opts

    def to_dict(self) -> dict:
        return asdict(self)

    def check(self) -> None:
        def positive_int(name, low=1):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ModelConfigError(f"OT option {name} must be an integer >= {low}, got {v!r}")

        positive_int("bank_size", 2)
        positive_int("refit_every")
        positive_int("warmup", 2)
        positive_int("neighbours")
        positive_int("max_steps")
        positive_int("extra_points", 0)
        if self.dim is not None:
            positive_int("dim")
        if self.samples is not None:
            positive_int("samples", 64)
        if not 0 <= float(self.weight) <= 1:
            raise ModelConfigError(f"OT option weight must be in [0, 1], got {self.weight!r}")
        if not 0 <= float(self.threshold) <= math.pi:
            raise ModelConfigError(f"OT option threshold is an angle in [0, pi], got {self.threshold!r}")
        if not float(self.code_radius) > 0:
            raise ModelConfigError(f"OT option code_radius must be positive, got {self.code_radius!r}")
        if not 0 < float(self.tol) < 1 or self.error not in ("max", "mean"):
            raise ModelConfigError(
                f"OT options tol in (0, 1) and error in ('max', 'mean'), got {self.tol!r}, {self.error!r}"
            )
        if not isinstance(self.same_class, bool):
            raise ModelConfigError(f"OT option same_class must be true or false, got {self.same_class!r}")
        if self.space not in OT_SPACES:
            raise ModelConfigError(f"OT option space must be one of {OT_SPACES}, got {self.space!r}")
        if self.space == "metric" and self.extra_points:
            raise ModelConfigError("OT option extra_points feeds the classifier: it needs space 'bottleneck'")
        if self.time_limit is not None and not float(self.time_limit) > 0:
            raise ModelConfigError(f"OT option time_limit must be positive or None, got {self.time_limit!r}")
