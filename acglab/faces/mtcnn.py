"""MTCNN (Zhang et al., 2016) in torch alone: the cascade of ``facenet-pytorch``, without torchvision.

``facenet-pytorch`` ships MTCNN's weights (``facenet_pytorch/data/pnet.pt``, ``rnet.pt``,
``onet.pt``) and runs its cascade with torchvision's non-maximum suppression; importing it
imports torchvision, whose ``ops`` import torch's compiler stack (about 2.5 s on 2 CPU cores).
This module reads the same weights (found with :func:`importlib.util.find_spec`, which does not
run the package's ``__init__``) into the same networks and runs the same cascade with torch and
numpy only: the boxes, scores and landmarks of ``facenet_pytorch.MTCNN`` (the tests compare
the two on real video frames) for no more imports than torch.

The cascade, for one (H, W, 3) uint8 RGB image:

1. **Pyramid.** Scales ``m, m f, m f^2, ...`` with ``m = 12 / min_face_size`` and ``f = 0.709``,
   while ``min(H, W) m f^k >= 12``; the image is resized to ``(int(H s + 1), int(W s + 1))`` by
   area averaging and mapped to ``(v - 127.5) / 128``.
2. **P-Net** scores every 12 x 12 window (stride 2) of each scale; windows scoring at least the
   first threshold become boxes in image pixels; non-maximum suppression (IoU 0.5) within each
   scale, then (IoU 0.7) over all scales; the boxes are moved by P-Net's regression and made
   square.
3. **R-Net** rescores each box's 24 x 24 crop; boxes above the second threshold are kept,
   suppressed (IoU 0.7), regressed and made square.
4. **O-Net** rescores 48 x 48 crops and places five landmarks; boxes above the third threshold
   are regressed and suppressed by the overlap over the smaller box (0.7).

Non-maximum suppression follows torchvision's ``nms``: boxes in decreasing score order (ties
keep their order), each kept box removes the later ones whose IoU with it exceeds the
threshold, with areas ``(x1 - x0) (y1 - y0)`` computed in float32 as there.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.functional import interpolate

from acglab.faces.mtcnn_nets import ONet, PNet, RNet, load_weights, weights_dir

#: pyramid scale step, as published
PYRAMID_FACTOR = 0.709
#: R-Net and O-Net score crops in batches of this size (as in facenet-pytorch: same arithmetic)
BATCH = 512


# --- the cascade's pieces ---------------------------------------------------------------------


def pyramid_scales(height: int, width: int, min_face_size: float, factor: float = PYRAMID_FACTOR) -> list[float]:
    """The image pyramid's scales (module notes, step 1); empty when no 12 x 12 window fits."""
    m = 12.0 / min_face_size
    side = min(height, width) * m
    scales, scale = [], m
    while side >= 12:
        scales.append(scale)
        scale *= factor
        side *= factor
    return scales


def resample(images: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, 3, h, w) float images resized to ``size`` by area averaging."""
    return interpolate(images, size=size, mode="area")


def window_boxes(reg: torch.Tensor, probs: torch.Tensor, scale: float, threshold: float) -> torch.Tensor:
    """P-Net's windows scoring at least ``threshold`` as (n, 9) rows ``x0 y0 x1 y1 score
    dx0 dy0 dx1 dy1`` in image pixels (one image: ``reg`` (1, 4, h, w), ``probs`` (1, h, w))."""
    stride, cell = 2, 12
    reg = reg.permute(1, 0, 2, 3)
    mask = probs >= threshold
    where = mask.nonzero()
    score = probs[mask]
    reg = reg[:, mask].permute(1, 0)
    corner = where[:, 1:].type(reg.dtype).flip(1)  # (x, y) of each window on this scale's grid
    q1 = ((stride * corner + 1) / scale).floor()
    q2 = ((stride * corner + cell - 1 + 1) / scale).floor()
    return torch.cat([q1, q2, score.unsqueeze(1), reg], dim=1)


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Indices (int64, best first) of the boxes kept by non-maximum suppression at IoU
    ``threshold`` (module notes; torchvision's ``nms``). ``boxes`` (n, 4) ``x0 y0 x1 y1``."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    order = torch.sort(scores.detach().cpu(), stable=True, descending=True)[1].numpy()
    b = boxes.detach().cpu().numpy()
    x0, y0, x1, y1 = (np.ascontiguousarray(b[:, k]) for k in range(4))
    areas = (x1 - x0) * (y1 - y0)
    zero = np.zeros((), dtype=b.dtype)
    keep = []
    while order.size:
        i, rest = order[0], order[1:]
        keep.append(i)
        w = np.maximum(zero, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        h = np.maximum(zero, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou.astype(np.float64) > threshold)]
    return torch.as_tensor(np.asarray(keep, dtype=np.int64), device=boxes.device)


def nms_sorted(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """:func:`nms` as facenet-pytorch calls it through torchvision's ``batched_nms`` for one
    image: beyond 1,000 boxes that function keeps the same boxes but returns them re-sorted by
    ``torch.sort`` (which may order ties differently), and the order decides later ties."""
    keep = nms(boxes, scores, threshold)
    if boxes.numel() > 4000:
        kept = torch.sort(keep.detach()).values
        keep = kept[scores[kept].sort(descending=True)[1]]
    return keep


def nms_min(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Indices kept by the final stage's suppression: overlap measured as the intersection over
    the smaller box, areas ``(x1 - x0 + 1) (y1 - y0 + 1)``, boxes taken in the order of
    ``numpy.argsort`` of the scores from the highest."""
    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.int64, device=boxes.device)
    b = boxes.detach().cpu().numpy()
    s = scores.detach().cpu().numpy()
    x0, y0, x1, y1 = (b[:, k].copy() for k in range(4))
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(s)
    keep = []
    while order.size > 0:
        i, rest = order[-1], order[:-1]
        keep.append(i)
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        overlap = (w * h) / np.minimum(area[i], area[rest])
        order = rest[overlap <= threshold]
    return torch.as_tensor(np.asarray(keep, dtype=np.int64), device=boxes.device)


def regress(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    """Move box corners by the regression ``reg`` (n, 4), in units of the box side + 1 (in place)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    b1 = boxes[:, 0] + reg[:, 0] * w
    b2 = boxes[:, 1] + reg[:, 1] * h
    b3 = boxes[:, 2] + reg[:, 2] * w
    b4 = boxes[:, 3] + reg[:, 3] * h
    boxes[:, :4] = torch.stack([b1, b2, b3, b4]).permute(1, 0)
    return boxes


def squared(boxes: torch.Tensor) -> torch.Tensor:
    """Boxes made square about their centre, side the longer of the two (in place)."""
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    side = torch.max(w, h)
    boxes[:, 0] = boxes[:, 0] + w * 0.5 - side * 0.5
    boxes[:, 1] = boxes[:, 1] + h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, :2] + side.repeat(2, 1).permute(1, 0)
    return boxes


def clipped(boxes: torch.Tensor, width: int, height: int) -> tuple[np.ndarray, ...]:
    """``(y0, y1, x0, x1)`` int32 pixel bounds of the boxes, truncated, clipped to the image (the
    crop of a box is rows ``y0 - 1 .. y1 - 1`` and columns ``x0 - 1 .. x1 - 1``)."""
    b = boxes.trunc().int().cpu().numpy()
    x, y, ex, ey = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    x[x < 1] = 1
    y[y < 1] = 1
    ex[ex > width] = width
    ey[ey > height] = height
    return y, ey, x, ex


def crops(image: torch.Tensor, boxes: torch.Tensor, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(crops (n, 3, size, size) normalised, kept)``: each box's crop of ``image`` (1, 3, H, W)
    resized by area averaging; ``kept`` marks the boxes whose crop is not empty (only those have
    a crop)."""
    height, width = image.shape[2:4]
    y, ey, x, ex = clipped(boxes, width, height)
    kept = (ey > y - 1) & (ex > x - 1)
    # indexing the image (rather than slicing its batch axis) gives the crops the strides they
    # have in facenet-pytorch, so the same resampling and convolution kernels run on them
    patches = [
        resample(image[0, :, y[k] - 1 : ey[k], x[k] - 1 : ex[k]].unsqueeze(0), (size, size))
        for k in range(len(y))
        if kept[k]
    ]
    data = torch.cat(patches, dim=0) if patches else image.new_zeros((0, 3, size, size))
    return (data - 127.5) * 0.0078125, torch.as_tensor(kept, device=boxes.device)


def in_batches(net: nn.Module, data: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``net`` over ``data`` in batches of :data:`BATCH`, its outputs concatenated."""
    out = [net(data[i : i + BATCH]) for i in range(0, len(data), BATCH)]
    return tuple(torch.cat(v, dim=0) for v in zip(*out))


class MTCNN(nn.Module):
    """The three networks with MTCNN's weights and the cascade that runs them (module notes).

    Parameters
    ----------
    min_face_size : smallest face side in pixels searched for
    thresholds : P-Net, R-Net and O-Net score thresholds
    factor : the pyramid's scale step
    device : where the networks run

    Raises :class:`acglab.errors.AcglabError` when the weights cannot be found or read.
    """

    def __init__(
        self, min_face_size: float = 20, thresholds=(0.6, 0.7, 0.7), factor: float = PYRAMID_FACTOR, device="cpu"
    ):
        super().__init__()
        folder = weights_dir()
        self.pnet = load_weights(PNet(), folder / "pnet.pt")
        self.rnet = load_weights(RNet(), folder / "rnet.pt")
        self.onet = load_weights(ONet(), folder / "onet.pt")
        self.min_face_size = min_face_size
        self.thresholds = tuple(float(t) for t in thresholds)
        self.factor = float(factor)
        self.device = torch.device(device)
        self.to(self.device).eval()

    @torch.no_grad()
    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(boxes (n, 4), scores (n,), landmarks (n, 5, 2))`` float32 of the faces in an
        (H, W, 3) uint8 RGB image, in the order of the last suppression (best score first).
        Boxes are ``x0 y0 x1 y1``, landmarks ``(x, y)`` rows."""
        img = torch.as_tensor(np.array(image, copy=True), device=self.device).unsqueeze(0)
        img = img.permute(0, 3, 1, 2).type(next(self.pnet.parameters()).dtype)
        boxes = self._refined(img, self._proposals(img))
        if len(boxes):
            data, kept = crops(img, boxes, 48)
            boxes = boxes[kept]
        if not len(boxes):
            return (np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 5, 2), np.float32))
        return self._output(boxes, data)

    def _proposals(self, img: torch.Tensor) -> torch.Tensor:
        """Steps 1 and 2 (module notes): P-Net's square boxes (n, 5: x0 y0 x1 y1 score)."""
        h, w = img.shape[2:4]
        found = []
        for scale in pyramid_scales(h, w, self.min_face_size, self.factor):
            data = (resample(img, (int(h * scale + 1), int(w * scale + 1))) - 127.5) * 0.0078125
            reg, probs = self.pnet(data)
            boxes = window_boxes(reg, probs[:, 1], scale, self.thresholds[0])
            found.append(boxes[nms_sorted(boxes[:, :4], boxes[:, 4], 0.5)])
        if not found:
            return img.new_zeros((0, 5))
        boxes = torch.cat(found, dim=0)
        boxes = boxes[nms_sorted(boxes[:, :4], boxes[:, 4], 0.7)]
        regw = boxes[:, 2] - boxes[:, 0]
        regh = boxes[:, 3] - boxes[:, 1]
        boxes = torch.stack(
            [
                boxes[:, 0] + boxes[:, 5] * regw,
                boxes[:, 1] + boxes[:, 6] * regh,
                boxes[:, 2] + boxes[:, 7] * regw,
                boxes[:, 3] + boxes[:, 8] * regh,
                boxes[:, 4],
            ]
        ).permute(1, 0)
        return squared(boxes)

    def _refined(self, img: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """Step 3: the boxes R-Net keeps, suppressed, regressed and made square."""
        if len(boxes):
            data, kept = crops(img, boxes, 24)
            boxes = boxes[kept]
        if not len(boxes):
            return boxes
        reg, probs = in_batches(self.rnet, data)
        score = probs[:, 1]
        ok = score > self.thresholds[1]
        boxes = torch.cat((boxes[ok, :4], score[ok].unsqueeze(1)), dim=1)
        reg = reg[ok]
        pick = nms_sorted(boxes[:, :4], boxes[:, 4], 0.7)
        return squared(regress(boxes[pick], reg[pick]))

    def _output(self, boxes: torch.Tensor, data: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step 4: O-Net on the boxes' 48 x 48 crops ``data``: final boxes, scores, landmarks."""
        reg, marks, probs = in_batches(self.onet, data)
        score = probs[:, 1]
        ok = score > self.thresholds[2]
        marks = marks[ok].permute(1, 0)
        boxes = torch.cat((boxes[ok, :4], score[ok].unsqueeze(1)), dim=1)
        reg = reg[ok]
        w_i = boxes[:, 2] - boxes[:, 0] + 1
        h_i = boxes[:, 3] - boxes[:, 1] + 1
        xs = w_i.repeat(5, 1) * marks[:5, :] + boxes[:, 0].repeat(5, 1) - 1
        ys = h_i.repeat(5, 1) * marks[5:10, :] + boxes[:, 1].repeat(5, 1) - 1
        points = torch.stack((xs, ys)).permute(2, 1, 0)
        boxes = regress(boxes, reg)
        pick = nms_min(boxes[:, :4], boxes[:, 4], 0.7)
        boxes, points = boxes[pick].cpu().numpy(), points[pick].cpu().numpy()
        return (
            boxes[:, :4].astype(np.float32),
            boxes[:, 4].astype(np.float32),
            points.reshape(-1, 5, 2).astype(np.float32),
        )
