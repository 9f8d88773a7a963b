<?php
// `/` answers with the message from src/message.php. PHP's built-in server
// runs every request afresh, so a synced edit shows on the next request.
$message = require __DIR__ . '/../src/message.php';
header('Content-Type: text/plain');
echo $message, "\n";
