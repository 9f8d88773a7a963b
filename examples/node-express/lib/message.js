module.exports = "Hello from Express v1";
