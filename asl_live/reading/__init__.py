"""The app's loop and its readers: the segmenter, the sign reader, the letter reader."""
