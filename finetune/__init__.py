"""Fine-tuning: datasets, LoRA/PECT training and adapter export (see issue tracker)."""
