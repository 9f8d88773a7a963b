MESSAGE = "Hello from Python v1"
