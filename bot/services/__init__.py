"""Domain services: rules and data access that handlers call."""
