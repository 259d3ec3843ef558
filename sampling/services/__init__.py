"""The service layer: one module per domain concept. Nothing here touches ``request``."""
