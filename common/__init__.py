"""Code shared by the five reproductions: data, models, explanations, metrics, tracking."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
