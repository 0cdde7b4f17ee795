// Declarations of libngspice's shared API (ngspice 39+), for loading the library with dlopen.
// The function-pointer typedefs let Swift cast dlsym results to correctly typed C functions.
#ifndef BMRUKIT_CNGSPICE_SHIM_H
#define BMRUKIT_CNGSPICE_SHIM_H

#include <stdbool.h>
#include <ngspice/sharedspice.h>

typedef int (*ngspice_init_fn)(SendChar *, SendStat *, ControlledExit *, SendData *,
                               SendInitData *, BGThreadRunning *, void *);
typedef int (*ngspice_command_fn)(char *);
typedef int (*ngspice_circ_fn)(char **);
typedef pvector_info (*ngspice_get_vec_info_fn)(char *);
typedef char *(*ngspice_cur_plot_fn)(void);
typedef char **(*ngspice_all_plots_fn)(void);
typedef char **(*ngspice_all_vecs_fn)(char *);
typedef NG_BOOL (*ngspice_running_fn)(void);
typedef NG_BOOL (*ngspice_set_bkpt_fn)(double);

#endif
