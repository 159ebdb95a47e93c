"""Routes of the public vote (filled by the voting issue)."""
from flask import Blueprint

bp = Blueprint("voting", __name__, url_prefix="/vote")
