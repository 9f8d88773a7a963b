package example;

final class Message {
  static final String TEXT = "Hello from Java v1";

  private Message() {}
}
