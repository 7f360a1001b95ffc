"""Fairness checks: classifiers, segmentations, recommenders, text models and proxies."""
