<?php
header('Content-Type: text/plain');
echo "About: a PHP example of skaffold-filesync\n";
