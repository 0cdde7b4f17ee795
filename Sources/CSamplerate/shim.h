// CSamplerate through a module map (see Package.swift).
#include <samplerate.h>
