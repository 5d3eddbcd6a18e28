"""Local execution engines (pure computation). Full interface documented below once written."""
