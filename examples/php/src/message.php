<?php

return 'Hello from PHP v1';
