// Stack buffers on the hot path are always written before they are read.
[module: System.Runtime.CompilerServices.SkipLocalsInit]
