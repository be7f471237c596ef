// dawn under mpirun: one model across several processes (machines), each holding a part of it.
// Every rank runs the same command line; rank 0 does the command's work and the others serve the
// layers they hold until it is done. Built without MPI, dawn runs single-process and refuses
// --split with one line.
#pragma once
#include <memory>
#include <string>

#include "models/model.h"

namespace dawn::dist {

// Initialises MPI when the process was started by mpirun (call first in main; MPI is finalised at
// exit). A plain start stays single-process and starts nothing.
void init(int* argc, char*** argv);
// For an error that ends this process before its ranks agreed on a model (a bad command line on
// one rank): stops the whole job, since the others would wait for it forever.
void abandon();
int rank();  // 0 when not under mpirun
int size();  // 1 when not under mpirun
bool available();  // built with MPI

// Loads the model as every command that runs one does. Single process (or mpirun -np 1): the
// whole file. Under mpirun with opts.split: the ranks check that they opened the same model, load
// their parts, and on every rank but 0 serve rank 0's forward passes with n_threads threads until
// it is done, then exit the process; rank 0 gets a Model whose forward runs the whole split.
// Throws Error (on rank 0: naming the rank at fault).
std::unique_ptr<Model> open_model(const std::string& path, const LoadOptions& opts, int n_threads);

}  // namespace dawn::dist
