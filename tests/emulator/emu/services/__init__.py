"""One module per AWS service; each exports HANDLERS and inventory(store)."""
