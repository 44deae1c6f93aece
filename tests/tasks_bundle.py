"""A test instrument: a MediaPipe Tasks holistic bundle made from legacy Holistic's own models.

The Tasks engine needs a `.task` bundle that no wheel ships and the tests may not download.
mediapipe 0.10.x's wheel carries the legacy Holistic models; zipped under the names the Tasks
graph reads, each with the image normalisation metadata the Tasks runtime needs (without it:
"Input tensor has type float32: it requires specifying NormalizationOptions metadata"),
they make a working bundle, except for the face: the Tasks graph reads 478 points from its
face model and the legacy one gives 468, so this bundle's face rows are scrambled (pose and
hands are right). Written with 0.10.x's metadata_writers (the 1.x writer does not
import). Never shipped or committed: made in a temporary folder by the tests and benchmarks.

    python tests/tasks_bundle.py OUT.task      (with mediapipe 0.10.x installed)
"""
from __future__ import annotations

import sys
from pathlib import Path

# Tasks name in the bundle <- legacy model in mediapipe/modules, and its input range:
# -1 for [-1, 1] (the two detectors), 0 for [0, 1] (the landmark models and the hand re-crop:
# given [-1, 1], the re-crop misplaces the hand's box and the bundle finds a hand in 0.49 of
# the frames where legacy Holistic finds one in 0.68; given [0, 1], as legacy Holistic's graph
# feeds it, as often as legacy Holistic).
MODELS = {
    "pose_detector.tflite": ("pose_detection/pose_detection.tflite", -1),
    "pose_landmarks_detector.tflite": ("pose_landmark/pose_landmark_full.tflite", 0),
    "hand_landmarks_detector.tflite": ("hand_landmark/hand_landmark_full.tflite", 0),
    "hand_roi_refinement.tflite": ("holistic_landmark/hand_recrop.tflite", 0),
    "face_detector.tflite": ("face_detection/face_detection_short_range.tflite", -1),
    "face_landmarks_detector.tflite": ("face_landmark/face_landmark.tflite", 0),
}


def legacy_models() -> Path | None:
    """mediapipe/modules of an installed mediapipe that has every legacy model, else None."""
    import importlib.util

    spec = importlib.util.find_spec("mediapipe")
    if spec is None:
        return None
    for root in spec.submodule_search_locations or []:
        modules = Path(root) / "modules"
        if all((modules / src).is_file() for src, _ in MODELS.values()):
            return modules
    return None


def build(out: str | Path) -> Path:
    """Write the bundle to `out`; needs mediapipe 0.10.x (legacy_models() is not None)."""
    modules = legacy_models()
    if modules is None:
        raise RuntimeError("the installed mediapipe has no legacy Holistic models (0.10.x has them)")
    # metadata_writers' import reaches for TensorFlow's docs helper when TensorFlow is
    # installed (seconds); it has a fallback, taken by marking tensorflow absent meanwhile.
    hidden = "tensorflow" not in sys.modules
    if hidden:
        sys.modules["tensorflow"] = None
    try:
        from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, writer_utils
    finally:
        if hidden and sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
    from mediapipe.tasks.python.metadata.metadata_writers import model_asset_bundle_utils

    models = {}
    for name, (src, low) in MODELS.items():
        model = bytearray((modules / src).read_bytes())
        mean, std = ([127.5], [127.5]) if low == -1 else ([0.0], [255.0])
        writer = metadata_writer.MetadataWriter.create(model).add_general_info(name)
        writer.add_image_input(mean, std)
        for _ in writer_utils.get_output_tensor_types(model):
            writer.add_feature_output()
        models[name] = bytes(writer.populate()[0])
    # MediaPipe's own bundle writer: a zip whose members are aligned, so they are mapped, not copied
    model_asset_bundle_utils.create_model_asset_bundle(models, str(out))
    return Path(out)


if __name__ == "__main__":
    print(build(sys.argv[1]))
