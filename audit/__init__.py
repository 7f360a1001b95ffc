"""crm-audit: governance and compliance auditing for AI-driven CRM systems."""

__version__ = "0.1.0"
TOOL_NAME = "crm-audit"

__all__ = ["TOOL_NAME", "__version__"]
