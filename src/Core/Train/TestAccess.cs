using System.Runtime.CompilerServices;

// The tests build classifiers from plain float vectors before photos are involved.
[assembly: InternalsVisibleTo("Flowers.Core.Tests")]
