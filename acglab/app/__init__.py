"""The analysis app, on top of the detector, its explanations and the OT geometry:

- :mod:`~acglab.app.analysis`: the analysis of images and videos (``acglab analyze``);
- :mod:`~acglab.app.reference`: reference maps of a detector's feature space;
- :mod:`~acglab.app.report`: the analysis report (HTML and PDF);
- :mod:`~acglab.app.widgets`: the ipywidgets app of notebook 07 (served by Voila).
"""
