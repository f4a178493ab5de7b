"""Names of the detector architectures, importable without torch (the command line and the
training presets check them before any model is built)."""

#: ``"acg"``: the full ACG detector; ``"acg-no-ot"``: without the OT module; ``"backbone"``:
#: the backbone with a linear classifier (the ablation's baseline)
ARCHS = ("acg", "acg-no-ot", "backbone")
