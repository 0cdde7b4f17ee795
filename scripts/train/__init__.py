"""BMRUKit training pipeline: FQ-BMRU networks in JAX, exported per docs/reference/model-format.md."""
