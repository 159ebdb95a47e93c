"""The framework floor: the least a Flask endpoint costs under the same gunicorn and load.

Every HTTP figure in benchmarks/http.py is a ratio to this, measured in the same run.
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def floor():
    return "ok"


@app.get("/healthz")
def health():
    return "ok"
