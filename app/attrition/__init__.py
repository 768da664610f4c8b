"""Employee-attrition fleet: the data contract, data loading, training and serving."""

__version__ = "0.1.0"
