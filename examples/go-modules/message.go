package main

func message() string { return "Hello from Go modules v1" }
