"""The terminal app: renders the store and dispatches to the sync engine; nothing else."""
