#include <petscksp.h>
#include <petscdmda.h>
#include <petscsnes.h>
