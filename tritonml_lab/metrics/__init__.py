"""GPU/CPU metrics of jobs: readers of what the in-job sampler writes, live streams and summaries.

The sampler itself is in-job code: tritonml_lab/injob/sampler.py."""
