module.exports = "Hello from Node.js v1";
