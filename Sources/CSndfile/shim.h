// CSndfile through a module map (see Package.swift).
#include <sndfile.h>
