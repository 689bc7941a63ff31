"""The gradient-boosting family: XGBoost and LightGBM on the fixed classes."""
