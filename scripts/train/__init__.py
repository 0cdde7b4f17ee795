"""BMRUKit training pipeline: FQ-BMRU networks in JAX, exported per docs/model-format.md."""
