"""asl-live training package: GISLR-layout datasets -> Keras 3 models -> TFLite with the competition contract."""
