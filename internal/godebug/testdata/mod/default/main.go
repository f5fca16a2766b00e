// Command default takes its GODEBUG defaults from a godebug default= line.
package main

func main() {}
