"""Evaluating the ACG detector: batched scores P(fake) over a sample table and the frame- and
video-level metrics of a checkpoint on a dataset or one part of a split (thesis §3.1).

Import the module you need: :mod:`acglab.eval.predict` (inference) or
:mod:`acglab.eval.evaluate` (part selection, metrics, report files); ``acglab eval`` is the
command line.
"""
