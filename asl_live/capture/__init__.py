"""Where frames come from (camera, video, parquet replay) and the engine that turns images into landmarks."""
