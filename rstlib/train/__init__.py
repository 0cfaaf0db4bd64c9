"""Training: the one loop for every variant (search, dense, fine-tune, RTT), the paper's variants as run
configs, and the runner that loads, resumes or trains."""
