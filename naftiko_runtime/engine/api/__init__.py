"""HTTP projections of the engine's one model; each module serves one vendor's API."""
