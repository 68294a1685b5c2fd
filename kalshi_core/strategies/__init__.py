"""Built-in strategies: directional (Kelly-sized), market maker and position exits."""
