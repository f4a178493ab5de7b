"""Models: small networks trained in the notebooks and the parts of the ACG detector.

Importing this package imports nothing heavy; import the module you need, for example
:mod:`acglab.models.digits_ae` (a tiny autoencoder for scikit-learn's 8x8 digits).
"""
