// CFFTW through a module map (see Package.swift).
#include <fftw3.h>
