"""IoTBench: task specs on real recorded traces, with provenance (see issue tracker)."""
