"""gunicorn reads this from the working directory: listen on $PORT (8080
by default) on every interface, one worker, access log on stdout."""
import os

bind = "0.0.0.0:" + os.environ.get("PORT", "8080")
workers = 1
accesslog = "-"
