"""REST blueprints of localhub, one module per API area (registered in localhub.app)."""
