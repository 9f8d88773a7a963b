"""A Flask app served by gunicorn: `/` renders templates/index.html with
message.MESSAGE (through a Jinja filter, so the page shows the template
engine at work) and says where flask was loaded from (in the image, the
pip-install layer on PYTHONPATH); `/static/<file>` serves static/."""
from importlib.metadata import version

import flask
from flask import Flask, render_template

import message

app = Flask(__name__)


@app.get("/")
def index():
    return render_template(
        "index.html",
        message=message.MESSAGE,
        flask_version=version("flask"),
        flask_from=flask.__file__,
    )
