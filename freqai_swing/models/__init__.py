"""The model families, one folder each, over a shared core that imports none of them.

- ``common/``: the fixed three-class interface, purged validation and purged folds, the device
  choice, corrupt window files and the FreqAI classifier base every classifier family subclasses.
- ``boosting/``: XGBoost and LightGBM cores (``SwingXGBoostClassifier``,
  ``SwingLightGBMClassifier``).
- ``ensemble/``: the stacked ensemble (``SwingEnsembleClassifier``): out-of-fold stacking
  weights, calibration, Optuna tuning, checksummed member files, and the ensemble itself.
- ``ppo/``: the 7-action environment, the PPO agent, its FreqAI model (``SwingPPO``), the strategy
  side of its actions and its use as an ensemble member.
"""
