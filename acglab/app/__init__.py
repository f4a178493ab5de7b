"""The analysis app and its report: :mod:`acglab.app.report` (HTML and PDF) and the widgets of
notebook 07."""
