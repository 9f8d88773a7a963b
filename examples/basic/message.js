module.exports = "Hello from example-basic v1";
