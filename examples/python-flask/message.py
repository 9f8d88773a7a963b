MESSAGE = "Hello from Flask v1"
