package main

func message() string { return "Hello from Go v1" }
