"""Routes of the published results (filled by the results issue)."""
from flask import Blueprint

bp = Blueprint("results", __name__, url_prefix="/results")
